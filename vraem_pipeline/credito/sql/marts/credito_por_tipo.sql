-- Every business credit type of referencia.tipos_credito appears every year (0 when none), in code order.
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
WITH anios AS (SELECT DISTINCT anio FROM meta.fuentes WHERE fuente = 'sbs_deudores'),
tipos AS (SELECT codigo, clave FROM referencia.tipos_credito WHERE credito_empresarial),
n AS (
    SELECT c.anio, c.tipo_credito, sum(vraem_exacto(c.saldo_soles)) AS saldo
    FROM intermedio.credito_empresarial AS c
    JOIN referencia.territorio AS t ON t.ubigeo = c.ubigeo
    GROUP BY ALL
)
SELECT a.anio,
       tp.clave AS tipo_credito,
       coalesce(n.saldo, 0) / 1e6 AS credito_millones_soles,
       100.0 * coalesce(n.saldo, 0) / nullif(sum(coalesce(n.saldo, 0)) OVER (PARTITION BY a.anio), 0)
           AS participacion_pct
FROM anios AS a
CROSS JOIN tipos AS tp
LEFT JOIN n ON n.anio = a.anio AND n.tipo_credito = tp.codigo
ORDER BY a.anio, tp.codigo
