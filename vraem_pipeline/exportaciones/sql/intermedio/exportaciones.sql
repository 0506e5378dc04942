-- One row per staged export line of the years refreshed ($anios), national, with what the marts group by.
-- Department of origin: the line's declared UBIGEO (docs/sources.md#aduanas-departamento), NULL when it is missing or
-- names no INEI department. Department of fiscal domicile: the exporter's RUC in the same year's Padrón RUC cut,
-- whatever its Estado. Amounts in cents as DECIMAL so that every sum is exact and the same whatever the order.
SELECT
    e.anio,
    e.archivo,
    e.linea,
    e.fob_usd::DECIMAL(18, 2)                          AS fob_usd,
    e.ubigeo,
    d.ubigeo_departamento,
    coalesce(p.pais_iso2, 'ZZ')                       AS pais_iso2,
    e.pais_sunat,
    e.nandina,
    coalesce(h.ciiu_clase, 'sin_clasificar')          AS ciiu_clase,
    h.regla                                           AS regla_ciiu,
    e.ruc_exportador,
    r.ubigeo                                          AS ubigeo_fiscal,
    df.ubigeo_departamento                            AS ubigeo_departamento_fiscal
FROM staging.exportaciones AS e
LEFT JOIN referencia.departamentos AS d
  ON regexp_full_match(e.ubigeo, '\d{6}') AND d.ubigeo_departamento = substr(e.ubigeo, 1, 2)
LEFT JOIN referencia.paises AS p
  ON p.codigo = e.pais_sunat
LEFT JOIN referencia.hs6_ciiu4 AS h
  ON h.hs6 = substr(e.nandina, 1, 6)
LEFT JOIN staging.padron_ruc AS r
  ON r.anio = e.anio AND r.ruc = e.ruc_exportador
LEFT JOIN referencia.departamentos AS df
  ON df.ubigeo_departamento = substr(r.ubigeo, 1, 2)
WHERE list_contains($anios, e.anio)
