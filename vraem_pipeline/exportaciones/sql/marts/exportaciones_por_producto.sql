-- Products of the territory's exports as CIIU Rev.4 classes (NANDINA → HS6 → class, referencia.hs6_ciiu4).
-- FOB stays DECIMAL (cents) through every sum, window sums included, and becomes DOUBLE only when printed.
WITH deps AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
t AS (
    SELECT x.anio, x.ciiu_clase, sum(x.fob_usd) AS fob
    FROM intermedio.exportaciones AS x JOIN deps USING (ubigeo_departamento)
    GROUP BY ALL
)
SELECT t.anio,
       t.ciiu_clase,
       coalesce(c.titulo, 'Sin clasificar (NANDINA sin correspondencia CIIU)') AS producto,
       t.fob::DOUBLE / 1e6 AS fob_millones_usd,
       100.0 * t.fob::DOUBLE / (sum(t.fob) OVER (PARTITION BY t.anio))::DOUBLE AS participacion_pct
FROM t LEFT JOIN referencia.ciiu_clases AS c ON c.clase = t.ciiu_clase
ORDER BY t.anio, t.fob DESC, t.ciiu_clase
