WITH n AS (
    SELECT e.anio, count(*) AS n_empresas
    FROM intermedio.empresas_formales AS e
    JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
    GROUP BY e.anio
)
SELECT n.anio,
       n.n_empresas,
       100.0 * (n.n_empresas / prev.n_empresas - 1) AS var_pct
FROM n
LEFT JOIN n AS prev ON prev.anio = n.anio - 1
ORDER BY n.anio
