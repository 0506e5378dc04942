-- Every department of the territory's districts appears every year, with 0 when no debtor is placed there
-- (the report prints Huancavelica with 0).
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
WITH anios AS (SELECT DISTINCT anio FROM meta.fuentes WHERE fuente = 'sbs_deudores'),
deptos AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
n AS (
    SELECT c.anio, c.ubigeo_departamento, sum(vraem_exacto(c.saldo_soles)) AS saldo
    FROM intermedio.credito_empresarial AS c
    JOIN referencia.territorio AS t ON t.ubigeo = c.ubigeo
    GROUP BY ALL
)
SELECT a.anio,
       g.ubigeo_departamento,
       d.departamento,
       coalesce(n.saldo, 0) / 1e6 AS credito_millones_soles,
       100.0 * coalesce(n.saldo, 0) / nullif(sum(coalesce(n.saldo, 0)) OVER (PARTITION BY a.anio), 0)
           AS participacion_pct
FROM anios AS a
CROSS JOIN deptos AS g
JOIN referencia.departamentos AS d ON d.ubigeo_departamento = g.ubigeo_departamento
LEFT JOIN n ON n.anio = a.anio AND n.ubigeo_departamento = g.ubigeo_departamento
ORDER BY a.anio, credito_millones_soles DESC, g.ubigeo_departamento
