-- The allocation by department of the territory: the department's VAB, the territory's share of it and the
-- territory's part, for the years published in pbi_evolucion. With per-activity workbooks the share is the
-- effective one (Σ activities of the territory's part / the department's VAB).
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
SELECT a.anio,
       a.ubigeo_departamento,
       d.departamento,
       sum(vraem_exacto(a.vab_departamento_miles_soles)) / 1000.0 AS vab_departamento_millones_soles_2007,
       100.0 * sum(vraem_exacto(a.vab_territorio_miles_soles))
           / nullif(sum(vraem_exacto(a.vab_departamento_miles_soles)), 0) AS participacion_territorio_pct,
       sum(vraem_exacto(a.vab_territorio_miles_soles)) / 1000.0 AS vab_territorio_millones_soles_2007,
       any_value(a.estado_cifra) AS estado_cifra
FROM intermedio.pbi_asignacion AS a
JOIN intermedio.pbi_territorio AS t USING (anio)
LEFT JOIN referencia.departamentos AS d USING (ubigeo_departamento)
GROUP BY a.anio, a.ubigeo_departamento, d.departamento
ORDER BY a.anio, a.ubigeo_departamento
