-- Business credit of the years being refreshed: one row per debtor, entity and SBS credit type, located in the
-- same year's Padrón RUC cut (all its rows: whatever Estado or Tipo). National; the territory is applied in the
-- marts. Personal data (DNI, RUC 10): this table lives in the operator database only. Lean on purpose (a
-- national year is ~150 k rows written every refresh): the type's key is in referencia.tipos_credito, the
-- file in meta.fuentes, and (anio, linea) leads back to the staged line.
-- Parameters: $anios (years), $tipos (business credit-type codes), $dni and $ruc (tipo_documento codes).
-- Needs the macro vraem_ruc_digito (ruc.SQL_MACROS).
WITH deudas AS (
    SELECT d.anio, d.tipo_documento, d.numero_documento, d.codigo_entidad, d.tipo_credito, d.saldo_soles, d.linea,
           CASE d.tipo_documento
               WHEN $ruc THEN d.numero_documento
               -- the RUC 10 that carries the DNI: '10' + DNI + SUNAT check digit
               WHEN $dni THEN '10' || d.numero_documento
                              || vraem_ruc_digito(TRY_CAST('10' || d.numero_documento AS BIGINT))::VARCHAR
           END AS ruc_ubicacion
    FROM staging.sbs_deudores AS d
    WHERE list_contains($anios, d.anio)
      AND list_contains($tipos, d.tipo_credito)
)
SELECT
    x.anio,
    x.tipo_documento,
    x.numero_documento,
    x.codigo_entidad,
    x.tipo_credito,
    x.saldo_soles,
    x.ruc_ubicacion,
    p.ubigeo,
    substr(p.ubigeo, 1, 2)                      AS ubigeo_departamento,
    CASE
        WHEN x.ruc_ubicacion IS NULL THEN 'documento_no_ubicable'
        WHEN p.ruc IS NULL THEN 'fuera_del_padron'
        WHEN p.ubigeo IS NULL THEN 'sin_ubigeo_en_padron'
    END                                         AS motivo_sin_ubicar,
    x.linea
FROM deudas AS x
LEFT JOIN staging.padron_ruc AS p
  ON p.anio = x.anio AND p.ruc = x.ruc_ubicacion
