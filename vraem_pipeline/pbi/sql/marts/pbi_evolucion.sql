-- The territory's value added at constant 2007 prices and its share of the national denominator, by year
-- (allocation and denominator: intermedio.pbi_territorio, parameters in meta.parametros, tema pbi).
SELECT anio,
       vab_territorio_miles_soles / 1000.0 AS vab_millones_soles_2007,
       participacion_nacional_pct
FROM intermedio.pbi_territorio
ORDER BY anio
