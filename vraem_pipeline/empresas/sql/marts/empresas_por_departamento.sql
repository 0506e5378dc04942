WITH base AS (
    SELECT e.anio, e.ubigeo_departamento
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
),
n AS (SELECT anio, ubigeo_departamento, count(*) AS n_empresas FROM base GROUP BY ALL),
grid AS (
    SELECT a.anio, d.ubigeo_departamento
    FROM (SELECT DISTINCT anio FROM intermedio.empresas_formales) AS a
    CROSS JOIN (SELECT ubigeo_departamento FROM referencia.territorio_departamentos) AS d
)
SELECT g.anio,
       g.ubigeo_departamento,
       d.departamento,
       coalesce(n.n_empresas, 0) AS n_empresas,
       100.0 * coalesce(n.n_empresas, 0) / nullif(sum(coalesce(n.n_empresas, 0)) OVER (PARTITION BY g.anio), 0)
           AS participacion_pct
FROM grid AS g
JOIN referencia.departamentos AS d ON d.ubigeo_departamento = g.ubigeo_departamento
LEFT JOIN n ON n.anio = g.anio AND n.ubigeo_departamento = g.ubigeo_departamento
ORDER BY g.anio, n_empresas DESC, g.ubigeo_departamento
