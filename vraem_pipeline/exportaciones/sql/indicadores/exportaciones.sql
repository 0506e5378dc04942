-- Key figures of the exports block; the annual change comes from _crecimiento.sql over exportaciones_evolucion.
-- Peru = every staged line of the year, with or without a usable ubigeo.
WITH nac AS (SELECT anio, sum(fob_usd)::DOUBLE / 1e6 AS fob FROM intermedio.exportaciones GROUP BY anio)
SELECT e.anio, 'exportaciones_millones_usd' AS indicador, e.fob_millones_usd AS valor, 'millones US$ FOB' AS unidad,
       'Exportaciones definitivas con origen declarado en los departamentos del territorio' AS descripcion,
       $fuente AS fuente
FROM marts.exportaciones_evolucion AS e
UNION ALL
SELECT e.anio, 'exportaciones_participacion_nacional_pct', 100.0 * e.fob_millones_usd / nullif(nac.fob, 0), '%',
       'Participación del territorio en el valor FOB exportado por el Perú', $fuente
FROM marts.exportaciones_evolucion AS e JOIN nac USING (anio)
