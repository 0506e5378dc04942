-- Formal firms of the years being refreshed (one row per RUC and year), national.
-- Parameters: $anios (list of years), $estados (Estado values that count as active), $tipos (business types),
-- $exigir_ventas (boolean), $micro_uit, $pequena_uit, $mediana_uit (Ley 30056 upper bounds, inclusive).
-- The territory is applied later, in the marts: it is configuration, not part of this table.
SELECT
    p.anio,
    p.ruc,
    p.tipo,
    p.ubigeo,
    substr(p.ubigeo, 1, 2)                      AS ubigeo_departamento,
    v.ventas_netas,
    u.uit_soles,
    CASE
        WHEN v.ventas_netas IS NULL OR v.ventas_netas <= 0 THEN NULL
        WHEN v.ventas_netas / u.uit_soles <= $micro_uit   THEN 'micro'
        WHEN v.ventas_netas / u.uit_soles <= $pequena_uit THEN 'pequena'
        WHEN v.ventas_netas / u.uit_soles <= $mediana_uit THEN 'mediana'
        ELSE 'grande'
    END                                         AS estrato,
    p.actividad_ciiu4,
    c.clase                                     AS ciiu_clase,
    coalesce(c.sector, 'sin_clasificar')        AS sector
FROM staging.padron_ruc AS p
JOIN referencia.uit AS u
  ON u.anio = p.anio
LEFT JOIN staging.ventas_declaradas AS v
  ON v.anio = p.anio AND v.ruc = p.ruc
LEFT JOIN referencia.ciiu_texto AS c
  ON c.texto = p.actividad_ciiu4
WHERE list_contains($anios, p.anio)
  AND list_contains($estados, p.estado)
  AND list_contains($tipos, p.tipo)
  AND (NOT $exigir_ventas OR coalesce(v.ventas_netas, 0) > 0)
