-- Key figure of the credit block; growth codes come from _crecimiento.sql over marts.credito_evolucion.
SELECT anio, 'credito_millones_soles' AS indicador, credito_millones_soles AS valor, 'millones S/' AS unidad,
       'Crédito empresarial (saldo de créditos directos a diciembre, tipos SBS 06–10) de los deudores ubicados '
       || 'en el territorio' AS descripcion,
       $fuente AS fuente
FROM marts.credito_evolucion
