-- Key figures of the firm block; growth codes come from _crecimiento.sql over marts.empresas_evolucion.
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
WITH terr AS (
    SELECT e.anio, count(*) AS n, sum(vraem_exacto(e.ventas_netas)) AS ventas
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
    GROUP BY e.anio
),
nac AS (SELECT anio, count(*) AS n FROM intermedio.empresas_formales GROUP BY anio)
SELECT terr.anio, 'empresas_formales' AS indicador, terr.n::DOUBLE AS valor, 'empresas' AS unidad,
       'Empresas formales con domicilio fiscal en el territorio' AS descripcion, $fuente AS fuente
FROM terr
UNION ALL
SELECT terr.anio, 'empresas_participacion_nacional_pct', 100.0 * terr.n / nac.n, '%',
       'Participación del territorio en el total nacional de empresas formales', $fuente
FROM terr JOIN nac USING (anio)
UNION ALL
SELECT terr.anio, 'ventas_millones_soles', terr.ventas / 1e6, 'millones S/',
       'Ventas netas declaradas de las empresas formales del territorio', $fuente
FROM terr
