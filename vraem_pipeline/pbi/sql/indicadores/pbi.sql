-- Key figures of the GDP block (docs/methodology/README.md#key-figures), one row per allocated year; the INEI's P/ and
-- E/ flags and the method and denominator used are written into the description, so an analyst reading the figure sees
-- them.
WITH t AS (
    SELECT *,
           CASE estado_cifra WHEN 'preliminar' THEN ' — cifra preliminar (P/) del INEI'
                             WHEN 'estimada' THEN ' — cifra estimada (E/) del INEI' ELSE '' END AS marca
    FROM intermedio.pbi_territorio
)
SELECT anio, 'pbi_vraem_millones_soles_2007' AS indicador, vab_territorio_miles_soles / 1000.0 AS valor,
       'millones S/ de 2007' AS unidad,
       'Valor agregado bruto de los distritos del territorio a precios constantes de 2007, asignado del VAB '
       || 'departamental del INEI. Participación: ' || metodo_descripcion || marca AS descripcion,
       $fuente AS fuente
FROM t
UNION ALL
SELECT anio, 'pbi_participacion_nacional_pct', participacion_nacional_pct, '%',
       'Participación del territorio en el ' || denominador_descripcion || marca, $fuente
FROM t
ORDER BY indicador, anio
