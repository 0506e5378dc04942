-- Years = the years with a debtor file read (meta.fuentes): a year without the SBS file has no row, a year
-- whose file places no balance in the territory has 0.
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
WITH anios AS (SELECT DISTINCT anio FROM meta.fuentes WHERE fuente = 'sbs_deudores'),
terr AS (
    SELECT c.anio, sum(vraem_exacto(c.saldo_soles)) AS saldo
    FROM intermedio.credito_empresarial AS c
    JOIN referencia.territorio AS t ON t.ubigeo = c.ubigeo
    GROUP BY c.anio
),
n AS (
    SELECT a.anio, coalesce(terr.saldo, 0) / 1e6 AS credito_millones_soles
    FROM anios AS a LEFT JOIN terr USING (anio)
)
SELECT n.anio,
       n.credito_millones_soles,
       100.0 * (n.credito_millones_soles / nullif(prev.credito_millones_soles, 0) - 1) AS var_pct
FROM n
LEFT JOIN n AS prev ON prev.anio = n.anio - 1
ORDER BY n.anio
