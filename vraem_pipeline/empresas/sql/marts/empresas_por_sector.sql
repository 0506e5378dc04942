WITH base AS (
    SELECT e.anio, e.sector
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
),
anios AS (SELECT DISTINCT anio FROM intermedio.empresas_formales),
sectores AS (SELECT sector FROM referencia.sectores),
n AS (SELECT anio, sector, count(*) AS n_empresas FROM base GROUP BY ALL)
SELECT a.anio,
       s.sector,
       coalesce(n.n_empresas, 0) AS n_empresas,
       100.0 * coalesce(n.n_empresas, 0) / nullif(sum(coalesce(n.n_empresas, 0)) OVER (PARTITION BY a.anio), 0)
           AS participacion_pct
FROM anios AS a
CROSS JOIN (SELECT sector FROM sectores UNION SELECT DISTINCT sector FROM base) AS s
LEFT JOIN n ON n.anio = a.anio AND n.sector = s.sector
WHERE s.sector <> 'sin_clasificar' OR n.n_empresas > 0
ORDER BY a.anio, n_empresas DESC, s.sector
