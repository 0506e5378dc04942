-- Declared net sales of formal firms by year, department of the territory and INEI activity: in the territory's
-- districts and in the whole department. The default shares of the GDP allocation (vraem_pipeline/pbi.py).
-- A firm's activity is its CIIU Rev.4 division through referencia.ciiu_division_actividad_inei; firms without a
-- CIIU class count in the department's all-activity row only. Departments outside the territory are left out:
-- they have no district of the territory, so their share is 0 by definition.
-- DOUBLE amounts are summed as DECIMAL (vraem_exacto, marts.DECIMALES_SUMA_EXACTA): exact in any row order.
WITH deps AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
f AS (
    SELECT e.anio, e.ubigeo_departamento, a.actividad, e.ventas_netas, t.ubigeo IS NOT NULL AS en_territorio
    FROM intermedio.empresas_formales AS e
    JOIN deps USING (ubigeo_departamento)
    LEFT JOIN referencia.territorio AS t ON t.ubigeo = e.ubigeo
    LEFT JOIN referencia.ciiu_division_actividad_inei AS a ON a.division = substr(e.ciiu_clase, 1, 2)
    WHERE e.ventas_netas > 0
)
SELECT anio, ubigeo_departamento, 'total' AS actividad,
       coalesce(sum(vraem_exacto(ventas_netas)) FILTER (WHERE en_territorio), 0)::DOUBLE AS ventas_territorio_soles,
       sum(vraem_exacto(ventas_netas))::DOUBLE AS ventas_departamento_soles
FROM f GROUP BY ALL
UNION ALL
SELECT anio, ubigeo_departamento, actividad,
       coalesce(sum(vraem_exacto(ventas_netas)) FILTER (WHERE en_territorio), 0)::DOUBLE,
       sum(vraem_exacto(ventas_netas))::DOUBLE
FROM f WHERE actividad IS NOT NULL GROUP BY ALL
ORDER BY anio, ubigeo_departamento, actividad
