-- Destination countries of the territory's exports; SUNAT codes mapped to ISO 3166-1 (ZZ: not identified).
-- FOB stays DECIMAL (cents) through every sum, window sums included, and becomes DOUBLE only when printed.
WITH deps AS (SELECT ubigeo_departamento FROM referencia.territorio_departamentos),
nombres AS (SELECT DISTINCT pais_iso2, pais FROM referencia.paises),
t AS (
    SELECT x.anio, x.pais_iso2, sum(x.fob_usd) AS fob
    FROM intermedio.exportaciones AS x JOIN deps USING (ubigeo_departamento)
    GROUP BY ALL
)
SELECT t.anio,
       t.pais_iso2,
       n.pais,
       t.fob::DOUBLE / 1e6 AS fob_millones_usd,
       100.0 * t.fob::DOUBLE / (sum(t.fob) OVER (PARTITION BY t.anio))::DOUBLE AS participacion_pct
FROM t LEFT JOIN nombres AS n USING (pais_iso2)
ORDER BY t.anio, t.fob DESC, t.pais_iso2
