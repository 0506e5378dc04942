-- Growth codes of one topic from its yearly series `serie(anio, valor)`, over the years present:
--   <prefijo>_var_anual_pct          change against the previous calendar year (absent if that year is missing)
--   <prefijo>_tcpa_pct               compound annual rate from the earliest year present to anio
--   <prefijo>_var_promedio_anual_pct arithmetic mean of the annual changes over the same window (absent when a
--                                    year inside the window is missing: the mean would skip a change silently)
-- (docs/methodology/README.md#key-figures: the published edition reports both, and they differ.)
-- The mean of the changes is taken over DECIMAL (vraem_exacto): exact, so the same in any row order.
WITH s AS (SELECT anio, valor FROM serie),
first AS (SELECT min(anio) AS anio0 FROM s),
chg AS (
    SELECT s.anio, 100.0 * (s.valor / p.valor - 1) AS var
    FROM s JOIN s AS p ON p.anio = s.anio - 1
),
rows AS (
    SELECT anio, $prefijo || '_var_anual_pct' AS indicador, var AS valor,
           'Variación porcentual respecto al año anterior' AS descripcion
    FROM chg
    UNION ALL
    SELECT s.anio, $prefijo || '_tcpa_pct',
           100.0 * (power(s.valor / s0.valor, 1.0 / (s.anio - f.anio0)) - 1),
           'Tasa de crecimiento compuesto anual desde ' || f.anio0
    FROM s CROSS JOIN first AS f JOIN s AS s0 ON s0.anio = f.anio0
    WHERE s.anio > f.anio0
    UNION ALL
    SELECT s.anio, $prefijo || '_var_promedio_anual_pct',
           (SELECT avg(vraem_exacto(c.var)) FROM chg AS c WHERE c.anio <= s.anio),
           'Promedio aritmético de las variaciones anuales desde ' || f.anio0
    FROM s CROSS JOIN first AS f
    WHERE s.anio > f.anio0 AND (SELECT count(*) FROM chg AS c WHERE c.anio <= s.anio) = s.anio - f.anio0
)
SELECT anio, indicador, valor, '%' AS unidad, descripcion, $fuente AS fuente FROM rows
