-- Territory departments' exports by declared origin (UBIGEO of the line, docs/sources.md#aduanas-departamento).
-- Every department of the territory appears every year, with 0 when nothing is attributed to it.
-- FOB stays DECIMAL (cents) through every sum, window sums included, and becomes DOUBLE only when printed.
WITH deps AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
anios AS (SELECT DISTINCT anio FROM intermedio.exportaciones),
t AS (
    SELECT x.anio, x.ubigeo_departamento AS ubigeo_departamento, sum(x.fob_usd) AS fob
    FROM intermedio.exportaciones AS x JOIN deps ON deps.ubigeo_departamento = x.ubigeo_departamento
    GROUP BY ALL
),
g AS (
    SELECT a.anio, d.ubigeo_departamento, coalesce(t.fob, 0) AS fob
    FROM anios AS a CROSS JOIN deps AS d
    LEFT JOIN t ON t.anio = a.anio AND t.ubigeo_departamento = d.ubigeo_departamento
)
SELECT g.anio,
       g.ubigeo_departamento,
       n.departamento,
       g.fob::DOUBLE / 1e6 AS fob_millones_usd,
       100.0 * g.fob::DOUBLE / nullif(sum(g.fob) OVER (PARTITION BY g.anio), 0)::DOUBLE AS participacion_pct
FROM g JOIN referencia.departamentos AS n USING (ubigeo_departamento)
ORDER BY g.anio, g.fob DESC, g.ubigeo_departamento
