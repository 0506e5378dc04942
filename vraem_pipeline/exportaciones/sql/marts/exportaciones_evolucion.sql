-- FOB of the lines whose declared origin is a department of the territory (docs/sources.md#aduanas-departamento), by
-- year.
WITH deps AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
anios AS (SELECT DISTINCT anio FROM intermedio.exportaciones),
t AS (
    SELECT x.anio, sum(x.fob_usd) AS fob
    FROM intermedio.exportaciones AS x JOIN deps USING (ubigeo_departamento)
    GROUP BY x.anio
),
s AS (SELECT a.anio, coalesce(t.fob, 0)::DOUBLE / 1e6 AS fob_millones_usd FROM anios AS a LEFT JOIN t USING (anio))
SELECT s.anio,
       s.fob_millones_usd,
       100.0 * (s.fob_millones_usd / nullif(prev.fob_millones_usd, 0) - 1) AS var_pct
FROM s LEFT JOIN s AS prev ON prev.anio = s.anio - 1
ORDER BY s.anio
