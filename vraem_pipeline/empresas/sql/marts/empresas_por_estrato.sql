WITH base AS (
    SELECT e.anio, coalesce(e.estrato, 'sin_ventas') AS estrato
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
),
n AS (SELECT anio, estrato, count(*) AS n_empresas FROM base GROUP BY ALL),
-- The four Ley 30056 strata always appear; `sin_ventas` only when the rule admits firms without declared
-- sales (exigir_ventas_positivas = false), so that the block still adds up to every formal firm.
estratos AS (
    SELECT estrato, orden FROM referencia.estratos
    UNION ALL SELECT 'sin_ventas', 5 WHERE EXISTS (SELECT 1 FROM base WHERE estrato = 'sin_ventas')
)
SELECT a.anio,
       s.estrato,
       coalesce(n.n_empresas, 0) AS n_empresas,
       100.0 * coalesce(n.n_empresas, 0) / nullif(sum(coalesce(n.n_empresas, 0)) OVER (PARTITION BY a.anio), 0)
           AS participacion_pct
FROM (SELECT DISTINCT anio FROM intermedio.empresas_formales) AS a
CROSS JOIN estratos AS s
LEFT JOIN n ON n.anio = a.anio AND n.estrato = s.estrato
ORDER BY a.anio, s.orden
