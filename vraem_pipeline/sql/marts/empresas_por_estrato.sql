WITH base AS (
    SELECT e.anio, e.estrato
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
),
n AS (SELECT anio, estrato, count(*) AS n_empresas FROM base GROUP BY ALL)
SELECT a.anio,
       s.estrato,
       coalesce(n.n_empresas, 0) AS n_empresas,
       100.0 * coalesce(n.n_empresas, 0) / nullif(sum(coalesce(n.n_empresas, 0)) OVER (PARTITION BY a.anio), 0)
           AS participacion_pct
FROM (SELECT DISTINCT anio FROM intermedio.empresas_formales) AS a
CROSS JOIN referencia.estratos AS s
LEFT JOIN n ON n.anio = a.anio AND n.estrato IS NOT DISTINCT FROM s.estrato
ORDER BY a.anio, s.orden
