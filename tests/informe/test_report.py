"""The report and the workbook, on small hand-built warehouses whose every sentence was written out by hand."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.support.runs import CHROMIUM_STAND_IN
from vraem_pipeline.informe import browser, formatting, render, workbook, write_report
from vraem_pipeline.informe.data import REPORT_TOPICS, read_report

#: docs/methodology/README.md#marts-tables: one chart per table (indicadores_clave is the key-figures panel).
MARTS = {
    "empresas_evolucion": "anio INTEGER, n_empresas BIGINT, var_pct DOUBLE",
    "empresas_por_sector": "anio INTEGER, sector VARCHAR, n_empresas BIGINT, participacion_pct DOUBLE",
    "empresas_por_departamento": "anio INTEGER, ubigeo_departamento VARCHAR, departamento VARCHAR, n_empresas BIGINT, "
    "participacion_pct DOUBLE",
    "empresas_por_estrato": "anio INTEGER, estrato VARCHAR, n_empresas BIGINT, participacion_pct DOUBLE",
    "empleo_evolucion": "anio INTEGER, pea_ocupada DOUBLE, var_pct DOUBLE, cv_pct DOUBLE, referencial BOOLEAN",
    "empleo_por_tipo": "anio INTEGER, tipo_empleo VARCHAR, trabajadores DOUBLE, participacion_pct DOUBLE, "
    "cv_pct DOUBLE, referencial BOOLEAN",
    "empleo_por_sexo": "anio INTEGER, sexo VARCHAR, trabajadores DOUBLE, participacion_pct DOUBLE, cv_pct DOUBLE, "
    "referencial BOOLEAN",
    "exportaciones_evolucion": "anio INTEGER, fob_millones_usd DOUBLE, var_pct DOUBLE",
    "exportaciones_por_destino": "anio INTEGER, pais_iso2 VARCHAR, pais VARCHAR, fob_millones_usd DOUBLE, "
    "participacion_pct DOUBLE",
    "exportaciones_por_producto": "anio INTEGER, ciiu_clase VARCHAR, producto VARCHAR, fob_millones_usd DOUBLE, "
    "participacion_pct DOUBLE",
    "exportaciones_por_departamento": "anio INTEGER, ubigeo_departamento VARCHAR, departamento VARCHAR, "
    "fob_millones_usd DOUBLE, participacion_pct DOUBLE",
    "credito_evolucion": "anio INTEGER, credito_millones_soles DOUBLE, var_pct DOUBLE",
    "credito_por_tipo": "anio INTEGER, tipo_credito VARCHAR, credito_millones_soles DOUBLE, participacion_pct DOUBLE",
    "credito_por_departamento": "anio INTEGER, ubigeo_departamento VARCHAR, departamento VARCHAR, "
    "credito_millones_soles DOUBLE, participacion_pct DOUBLE",
    "pbi_evolucion": "anio INTEGER, vab_millones_soles_2007 DOUBLE, participacion_nacional_pct DOUBLE",
}

SOURCE = {
    "empresas": "SUNAT, Padrón RUC",
    "empleo": "INEI, ENAHO",
    "exportaciones": "SUNAT, Aduanas",
    "credito": "SBS, deudores",
    "pbi": "INEI, PBI por departamentos",
    "ventas": "SUNAT, Padrón RUC",
}


def _warehouse(
    path: Path,
    rows: dict[str, list[tuple]],
    clave: dict[tuple[int, str], float],
    territorio: str = "/x/vraem_distritos.csv",
    cv: dict[tuple[int, str], tuple[float, bool]] | None = None,
    districts: tuple[str, ...] = ("050101", "080101"),
    padron: tuple[str, str] = ("PadronRUC_202412.zip", "corte 202412"),
) -> Path:
    """A published warehouse with the marts tables, holding only the given rows (`padron`: the name and
    note of the year's Padrón cut in meta.fuentes)."""
    con = duckdb.connect(str(path))
    for schema in ("marts", "meta", "referencia"):
        con.execute(f"CREATE SCHEMA {schema}")
    for table, columns in MARTS.items():
        con.execute(f"CREATE TABLE marts.{table} ({columns})")
        for row in rows.get(table, []):
            con.execute(f"INSERT INTO marts.{table} VALUES ({', '.join('?' * len(row))})", list(row))
    con.execute(
        "CREATE TABLE marts.indicadores_clave (anio INTEGER, indicador VARCHAR, valor DOUBLE, unidad VARCHAR, "
        "descripcion VARCHAR, fuente VARCHAR)"
    )
    for (anio, code), value in clave.items():
        con.execute(
            "INSERT INTO marts.indicadores_clave VALUES (?, ?, ?, '', '', ?)",
            [anio, code, value, SOURCE[next(t for t in SOURCE if code.startswith(t))]],
        )
    con.execute(
        "CREATE TABLE marts.empleo_precision (anio BIGINT, indicador VARCHAR, valor DOUBLE, unidad VARCHAR, "
        "descripcion VARCHAR, cv_pct DOUBLE, referencial BOOLEAN)"
    )
    for (anio, code), (cv_pct, ref) in (cv or {}).items():
        con.execute("INSERT INTO marts.empleo_precision VALUES (?, ?, 0, '', '', ?, ?)", [anio, code, cv_pct, ref])
    con.execute(
        "CREATE TABLE meta.fuentes (fuente VARCHAR, anio INTEGER, archivo VARCHAR, sha256 VARCHAR, "
        "bytes BIGINT, filas_leidas BIGINT, filas_aceptadas BIGINT, filas_rechazadas BIGINT, "
        "leido_en TIMESTAMP, nota VARCHAR, filas_duplicadas BIGINT)"
    )
    con.execute(
        "INSERT INTO meta.fuentes VALUES ('padron_ruc', 2024, ?, 'ab', 1, 10, 9, 1, NULL, ?, 0)",
        [f"/raw/sunat/padron/2024/{padron[0]}", padron[1]],
    )
    con.execute("CREATE TABLE meta.parametros (tema VARCHAR, nombre VARCHAR, valor VARCHAR, descripcion VARCHAR)")
    con.execute("""INSERT INTO meta.parametros VALUES ('empresas', 'micro_uit', '150.0', 'Límite de la micro'),
                   ('empleo', 'fuente_informalidad', '{"2023": "oficial", "2024": "reconstruido"}', 'Por año')""")
    con.execute(
        "CREATE TABLE meta.ejecuciones (run_id VARCHAR, inicio TIMESTAMP, fin TIMESTAMP, anios VARCHAR, "
        "territorio VARCHAR, territorio_sha256 VARCHAR, parametros VARCHAR, estado VARCHAR)"
    )
    con.execute(
        "INSERT INTO meta.ejecuciones VALUES ('0123456789ab', NULL, TIMESTAMP '2025-04-01 06:30', '[]', ?, "
        "'', '[]', 'publicado')",
        [territorio],
    )
    con.execute(
        "CREATE TABLE meta.diccionario (esquema VARCHAR, tabla VARCHAR, columna VARCHAR, descripcion VARCHAR, "
        "unidad VARCHAR, fuente VARCHAR)"
    )
    con.execute(
        "INSERT INTO meta.diccionario VALUES ('marts', 'empresas_evolucion', NULL, 'Empresas por año', NULL, "
        "NULL), ('marts', 'empresas_evolucion', 'n_empresas', 'Empresas formales', 'empresas', NULL)"
    )
    con.execute(
        "CREATE TABLE referencia.territorio (ubigeo VARCHAR, departamento VARCHAR, provincia VARCHAR, "
        "distrito VARCHAR, ambito VARCHAR, fuente VARCHAR)"
    )
    for ubigeo in districts:
        con.execute("INSERT INTO referencia.territorio VALUES (?, '', '', '', '', '')", [ubigeo])
    con.execute(
        "CREATE TABLE referencia.departamentos AS SELECT * FROM (VALUES ('05', 'Ayacucho'), ('08', 'Cusco'), "
        "('09', 'Huancavelica'), ('12', 'Junín')) t(ubigeo_departamento, departamento)"
    )
    con.close()
    return path


def _empresas(n_2023: int | None, n_2024: int) -> tuple[dict, dict]:
    var = None if n_2023 is None else (n_2024 / n_2023 - 1) * 100
    evolution = ([(2023, n_2023, None)] if n_2023 is not None else []) + [(2024, n_2024, var)]
    rows = {"empresas_evolucion": evolution}
    clave = {(2024, "empresas_formales"): n_2024}
    if var is not None:
        clave[(2024, "empresas_var_anual_pct")] = var
    return rows, clave


def _text(html: str, section: str) -> str:
    """The sentences of one section, tags dropped and spaces collapsed."""
    body = re.search(rf'<section class="tema" id="{section}">(.*?)</section>', html, re.S).group(1)
    body = re.sub(r"<h2>.*?</h2>|<figure.*?</figure>|<div class=\"procedencia\">.*?</div>\s*$", "", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace(" .", ".").replace(" ,", ",").strip()


@pytest.mark.parametrize(
    ("n_2023", "n_2024", "expected"),
    [
        (
            100,
            110,
            "En 2024, se registraron 110 empresas formales en el VRAEM, lo que representa un aumento del 10.0% "
            "con respecto a 2023.",
        ),
        (
            100,
            95,
            "En 2024, se registraron 95 empresas formales en el VRAEM, lo que representa una disminución del 5.0% "
            "con respecto a 2023.",
        ),
        (1000, 1000, "En 2024, se registraron 1,000 empresas formales en el VRAEM, la misma cifra que en 2023."),
        (
            None,
            17224,
            "En 2024, se registraron 17,224 empresas formales en el VRAEM; no hay cifra de 2023 para comparar.",
        ),
    ],
    ids=["sube", "baja", "igual", "sin_anio_previo"],
)
def test_firms_sentence_for_rise_fall_no_change_and_missing_year(tmp_path, n_2023, n_2024, expected):
    rows, clave = _empresas(n_2023, n_2024)
    html = render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave), 2024))
    assert _text(html, "empresas").startswith(expected)


def test_shares_lists_and_conjunctions_read_as_the_edition_writes_them(tmp_path):
    rows, clave = _empresas(100, 110)
    rows |= {
        "empresas_por_estrato": [(2024, "grande", 1, 0.9), (2024, "micro", 100, 90.9), (2024, "pequena", 9, 8.2)],
        "empresas_por_departamento": [(2024, "05", "Ayacucho", 60, 54.5), (2024, "08", "Cusco", 50, 45.5)],
        "exportaciones_evolucion": [(2024, 9580.0, None)],
        "exportaciones_por_destino": [
            (2024, "CN", "China", 80.0, 80.0),
            (2024, "CH", "Suiza", 15.0, 15.0),
            (2024, "IN", "India", 5.0, 5.0),
        ],
        "credito_evolucion": [(2019, 587.0, None), (2024, 981.0, 10.0)],
        "credito_por_departamento": [
            (2024, "05", "Ayacucho", 900.0, 91.7),
            (2024, "08", "Cusco", 81.0, 8.3),
            (2024, "09", "Huancavelica", 0.0, 0.0),
        ],
        "credito_por_tipo": [
            (2024, "pequenas_empresas", 804.4, 82.0),
            (2024, "microempresas", 157.0, 16.0),
            (2024, "medianas_empresas", 19.6, 2.0),
        ],
    }
    clave |= {
        (2024, "exportaciones_millones_usd"): 9580.0,
        (2024, "credito_millones_soles"): 981.0,
        (2024, "credito_var_promedio_anual_pct"): 14.7,
        (2024, "credito_tcpa_pct"): 10.8,
    }
    html = render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave), 2024))
    empresas, exportaciones, credito = (_text(html, s) for s in ("empresas", "exportaciones", "credito"))
    assert (
        "Según estrato empresarial, el 90.9% son microempresas, el 8.2% pequeñas empresas y el 0.9% grandes empresas."
    ) in empresas
    assert (
        "El 54.5% de las empresas formales del VRAEM se concentra en la región de Ayacucho, seguida de Cusco (45.5%)."
    ) in empresas
    assert "; no hay cifra de 2023 para comparar." in exportaciones  # no var: said, not printed as 0
    assert "Los principales mercados de destino son China (80.0%), Suiza (15.0%) e India (5.0%)." in exportaciones
    assert (
        "En 2024, S/ 981 millones es el crédito otorgado a las empresas ubicadas en las regiones del VRAEM, "
        "frente a S/ 587 millones en 2019, con un crecimiento promedio anual de 14.7% (tasa compuesta: 10.8%)."
    ) in credito
    assert (
        "Los créditos a pequeñas empresas representan el 82.0% del total, seguidos de los créditos a "
        "microempresas (16.0%) y a medianas empresas (2.0%)."
    ) in credito
    assert (
        "Ayacucho lidera la distribución regional con el 91.7%, seguido de Cusco (8.3%); Huancavelica no registra "
        "crédito empresarial."
    ) in credito


def test_survey_figures_show_their_cv_and_mark_referencial_ones(tmp_path):
    clave = {
        (2024, "empleo_pea_ocupada"): 2525492.0,
        (2024, "empleo_var_anual_pct"): -0.3,
        (2024, "empleo_informal_pct"): 84.6,
        (2024, "empleo_formal_pct"): 15.4,
    }
    cv = {
        (2024, "empleo_pea_ocupada"): (3.46, False),
        (2024, "empleo_formal_pct"): (16.2, True),
        (2024, "empleo_informal_pct"): (0.62, False),
    }
    rows = {"empleo_evolucion": [(2024, 2525492.0, -0.3, 3.46, False)]}
    html = render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave, cv=cv), 2024))
    text = _text(html, "empleo")
    assert (
        "En 2024, la PEA ocupada del VRAEM fue de 2,525,492 trabajadores (CV 3.5%), registrando una caída de 0.3% "
        "con respecto al año anterior."
    ) in text
    assert (
        "El 84.6% (CV 0.6%) de la PEA ocupada tiene un empleo informal y solo el 15.4% (CV 16.2%) * es formal." in text
    )
    formal_card = re.search(r'data-indicador="empleo_informal_pct".*?</div>\s*</div>', html, re.S).group(0)
    assert "CV 0.6%" in formal_card
    assert 'class="referencial"' in html and "Cifra referencial: su CV supera el 15%" in re.sub(r"\s+", " ", html)


class _Page(HTMLParser):
    """Collects what the tests check: charts by marts table, key-figure cards, and that tags are balanced."""

    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.figures, self.cards, self.svgs = [], {}, {}, 0
        self._figure = self._card = None
        self._field = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "figure":
            self._figure = a["data-mart"]
            self.figures[self._figure] = False
        if tag == "svg" and self._figure:
            self.figures[self._figure] = True
            self.svgs += 1
        if tag == "div" and "data-indicador" in a:
            self._card = a["data-indicador"]
            self.cards[self._card] = {"data-valor": a["data-valor"], "valor": ""}
        if tag == "div" and a.get("class") == "valor" and self._card:
            self._field = "valor"

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "figure":
            self._figure = None
        if tag == "div" and self._field:
            self._field = None

    def handle_data(self, data):
        if self._field and self._card:
            self.cards[self._card][self._field] += data.strip()


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert page.stack == [], f"etiquetas sin cerrar: {page.stack}"
    return page


def _complete() -> tuple[dict, dict]:
    """Every marts table filled for 2024, the evolutions also for 2023."""
    rows, clave = _empresas(15860, 17224)
    rows |= {
        "empresas_por_sector": [
            (2024, "comercio", 7614, 44.2),
            (2024, "servicios", 7300, 42.4),
            (2024, "mineria", 2310, 13.4),
        ],
        "empresas_por_departamento": [(2024, "05", "Ayacucho", 10000, 58.1), (2024, "08", "Cusco", 7224, 41.9)],
        "empresas_por_estrato": [(2024, "micro", 16725, 97.1), (2024, "pequena", 499, 2.9)],
        "empleo_evolucion": [(2023, 2533091.0, None, 3.4, False), (2024, 2525492.0, -0.3, 3.5, False)],
        "empleo_por_tipo": [
            (2024, "formal", 388322.7, 15.4, 3.4, False),
            (2024, "informal", 2133253.3, 84.6, 0.6, False),
        ],
        "empleo_por_sexo": [
            (2024, "hombre", 1363765.7, 54.0, 0.9, False),
            (2024, "mujer", 1161726.3, 46.0, 1.1, False),
        ],
        "exportaciones_evolucion": [(2023, 9551.3, None), (2024, 9580.0, 0.3)],
        "exportaciones_por_destino": [(2024, "CN", "China", 6964.7, 72.7), (2024, "CH", "Suiza", 2615.3, 27.3)],
        "exportaciones_por_producto": [
            (2024, "0729", "Extracción de otros minerales metalíferos no ferrosos", 8047.2, 84.0),
            (2024, "2420", "Metales preciosos", 1532.8, 16.0),
        ],
        "exportaciones_por_departamento": [(2024, "12", "Junín", 5000.0, 52.2), (2024, "08", "Cusco", 4580.0, 47.8)],
        "credito_evolucion": [(2023, 808.3, None), (2024, 981.0, 21.4)],
        "credito_por_tipo": [(2024, "pequenas_empresas", 804.4, 82.0), (2024, "microempresas", 176.6, 18.0)],
        "credito_por_departamento": [(2024, "05", "Ayacucho", 981.0, 100.0)],
        "pbi_evolucion": [(2023, 1054.0, 0.19), (2024, 1093.0, 0.19)],
    }
    clave |= {
        (2024, "empresas_participacion_nacional_pct"): 0.7000001,
        (2024, "ventas_millones_soles"): 2184.99999,
        (2024, "exportaciones_millones_usd"): 9580.0,
        (2024, "exportaciones_participacion_nacional_pct"): 12.9,
        (2024, "exportaciones_var_anual_pct"): 0.30000004,
        (2024, "empleo_pea_ocupada"): 2525492.0,
        (2024, "empleo_informal_pct"): 84.6,
        (2024, "empleo_formal_pct"): 15.4,
        (2024, "empleo_mujeres_pct"): 45.99999,
        (2024, "credito_millones_soles"): 981.0000000009,
        (2024, "pbi_vraem_millones_soles_2007"): 1092.99999,
        (2024, "pbi_participacion_nacional_pct"): 0.18664,
    }
    return rows, clave


@pytest.fixture(scope="module")
def publicado(tmp_path_factory) -> Path:
    rows, clave = _complete()
    path = tmp_path_factory.mktemp("pub") / "vraem.duckdb"
    return _warehouse(path, rows, clave, cv={(2024, "empleo_pea_ocupada"): (3.46, False)})


def test_a_first_year_with_no_previous_one_reads_without_changes(tmp_path):
    """The first year refreshed: every block says it has nothing to compare with, none fails."""
    rows, clave = _complete()
    rows = {t: [r for r in rs if r[0] == 2024] for t, rs in rows.items()}
    clave = {k: v for k, v in clave.items() if not k[1].endswith("_var_anual_pct")}
    html = re.sub(r"\s+", " ", render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave), 2024)))
    assert (
        "1,093 millones a precios constantes de 2007, el 0.2% del PBI nacional; no hay cifra de 2023 para comparar."
        in html
    )
    assert "; no hay cifra de 2023 para comparar." in _text(html, "empresas")
    assert _parse(html).figures == dict.fromkeys(MARTS, True)


def test_page_parses_with_one_chart_per_marts_table_and_the_warehouse_key_figures(publicado):
    page = _parse(render(read_report(publicado, 2024)))
    charted = [g.mart for t in REPORT_TOPICS for g in t.charts]
    assert sorted(charted) == sorted(MARTS)  # every marts table, once
    assert page.figures == dict.fromkeys(MARTS, True) and page.svgs == len(MARTS)
    con = duckdb.connect(str(publicado), read_only=True)
    published = dict(con.execute("SELECT indicador, valor FROM marts.indicadores_clave WHERE anio = 2024").fetchall())
    shown = {code: card for code, card in page.cards.items() if card["data-valor"]}
    assert shown and all(float(card["data-valor"]) == published[code] for code, card in shown.items())
    assert page.cards["empresas_formales"]["valor"] == "17,224"
    assert page.cards["ventas_millones_soles"]["valor"] == "S/ 2,185 millones"
    assert page.cards["exportaciones_millones_usd"]["valor"] == "US$ 9,580 millones"
    assert page.cards["empleo_pea_ocupada"]["valor"] == "2,525,492"
    assert page.cards["empleo_mujeres_pct"]["valor"] == "46.0%"
    assert page.cards["exportaciones_var_anual_pct"]["valor"] == "+0.3%"
    assert page.cards["pbi_vraem_millones_soles_2007"]["valor"] == "S/ 1,093 millones"


def test_page_needs_no_network_and_has_no_english_chart_labels(publicado):
    html = render(read_report(publicado, 2024))
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched when opened
    assert "<script" not in html
    labels = " ".join(re.findall(r"<!-- (.*?) -->", html))  # matplotlib writes each text as a comment
    for english in ("Other", "Year", "Count", "Value", "Share"):
        assert english not in labels
    # ids of different charts never collide in one page
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_a_block_whose_marts_are_empty_says_sin_dato(publicado, tmp_path):
    rows, clave = _empresas(100, 110)
    html = render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave), 2024))
    assert "Sin dato para 2024: el almacén publicado no tiene cifras de exportaciones de ese año." in re.sub(
        r"\s+", " ", html
    )
    page = _parse(html)
    assert page.figures["exportaciones_por_destino"] is False and page.figures["empresas_evolucion"] is True


def test_sources_and_parameters_close_each_block(publicado):
    html = re.sub(r"\s+", " ", render(read_report(publicado, 2024)))
    block = re.search(r'<section class="tema" id="empresas">.*?</section>', html).group(0)
    assert "<strong>Fuente:</strong> SUNAT, Padrón RUC." in block
    assert "padron_ruc: PadronRUC_202412.zip (corte 202412); 10 filas leídas, 9 aceptadas, 1 en cuarentena." in block
    assert "empresas.micro_uit = 150.0" in block
    assert "(ejecución 01234567, 2025-04-01 06:30 UTC)" in block
    empleo = re.search(r'<section class="tema" id="empleo">.*?</section>', html).group(0)
    assert "empleo.fuente_informalidad = reconstruido" in empleo  # the year's value of a per-year parameter


@pytest.mark.parametrize(
    ("padron", "says"),
    [
        (
            ("PadronRUC_202406.zip", "corte 202406, no el cierre de diciembre"),
            "<strong>Fuente:</strong> SUNAT, Padrón RUC. Padrón RUC: cifras del corte de junio de 2024, "
            "no del cierre de diciembre.</p>",
        ),
        (("PadronRUC_202412.zip", "corte 202412"), "<strong>Fuente:</strong> SUNAT, Padrón RUC.</p>"),  # the close
    ],
)
def test_the_source_line_says_when_the_firms_are_not_from_the_december_cut(tmp_path, padron, says):
    rows, clave = _empresas(100, 110)
    html = re.sub(r"\s+", " ", render(read_report(_warehouse(tmp_path / "a.duckdb", rows, clave, padron=padron), 2024)))
    block = re.search(r'<section class="tema" id="empresas">.*?</section>', html).group(0)
    assert says in block
    assert f"padron_ruc: {padron[0]} ({padron[1]}); 10 filas leídas" in block


def test_another_territory_reads_its_own_name_and_district_count(tmp_path):
    rows, clave = _empresas(100, 110)
    rows["empresas_por_departamento"] = [(2024, "05", "Ayacucho", 110, 100.0)]
    path = _warehouse(
        tmp_path / "a.duckdb",
        rows,
        clave,
        territorio="/t/ayacucho_distritos.csv",
        districts=("050101", "050102", "050103"),
    )
    html = re.sub(r"\s+", " ", render(read_report(path, 2024)))
    assert "<h1>Desempeño económico de Ayacucho 2024</h1>" in html  # a department takes no article
    assert "3 distritos de Ayacucho." in html
    assert "En 2024, se registraron 110 empresas formales en Ayacucho," in html
    assert "VRAEM" not in html
    assert "se concentra en la región" not in html  # one department: a 100 % distribution is not a sentence


def test_workbook_has_a_sheet_per_marts_table_with_values_units_and_the_dictionary(publicado, tmp_path):
    path = tmp_path / "cuadros.xlsx"
    sheets = workbook.write_workbook(publicado, 2024, path, "VRAEM")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == sheets
    assert sheets[0] == "indice" and sheets[-3:] == ["fuentes", "parametros", "diccionario"]
    assert {workbook.sheet_name(t) for t in [*MARTS, "indicadores_clave", "empleo_precision"]} <= set(sheets)
    ws = book["empresas_evolucion"]
    assert [c.value for c in ws[4]] == ["anio", "n_empresas", "var_pct"]
    assert [c.value for c in ws[5]][1] == "empresas"  # the unit row, from meta.diccionario
    assert [c.value for c in ws[6]][:2] == [2024, 17224] and ws["B6"].number_format == "#,##0"
    assert [c.value for c in ws[7]][:2] == [2023, 15860]
    assert ws.freeze_panes == "A6"
    dictionary = book["diccionario"]
    assert [c.value for c in dictionary[4]][:4] == ["marts", "empresas_evolucion", "n_empresas", "Empresas formales"]


def test_sheet_names_fit_excel_and_stay_readable():
    assert workbook.sheet_name("exportaciones_por_departamento_domicilio_fiscal") == "export_por_depto_dom_fiscal"
    assert workbook.sheet_name("empresas_evolucion") == "empresas_evolucion"


@pytest.mark.parametrize(
    ("value", "filter_", "text"),
    [
        (17224, "entero", "17,224"),
        (2525492.4, "entero", "2,525,492"),
        (8.6003, "pct", "8.6%"),
        (-0.04, "pct", "0.0%"),
        (-0.3, "signo", "-0.3%"),
        (8.6, "signo", "+8.6%"),
        (0.01, "signo", "0.0%"),
        (2184.999, "millones", "2,185"),
        (6.867, "millones", "6.9"),
        (2400000, "millones_de_personas", "2.4 millones"),
        (2400000, "trabajadores", "2.4 millones de trabajadores"),
        (396312.4, "trabajadores", "396,312 trabajadores"),
        (None, "pct", "sin dato"),
        (float("nan"), "entero", "sin dato"),
    ],
)
def test_number_formats_of_the_edition(value, filter_, text):
    assert formatting.FILTERS[filter_](value) == text


@pytest.mark.parametrize(
    ("items", "text"),
    [
        (["China"], "China"),
        (["China", "Suiza"], "China y Suiza"),
        (["Suiza", "India"], "Suiza e India"),
        (["Cusco", "Hidalgo"], "Cusco e Hidalgo"),
        (["Cusco", "Hierro"], "Cusco y Hierro"),
        (["A", "B", "C"], "A, B y C"),
    ],
)
def test_spanish_lists(items, text):
    assert formatting.enumerar(items) == text


@pytest.mark.skipif(
    not any(browser.shutil.which(c) for c in browser.CANDIDATES)
    and not browser.os.environ.get("VRAEM_EXIGIR_CHROMIUM"),
    reason="sin Chromium (.ci/run instala el paquete chromium de Debian y exige esta prueba)",
)
def test_page_renders_in_headless_chromium_as_screenshot_and_pdf(publicado, tmp_path, real_chromium):
    """With the real browser (`real_chromium`: the other tests print with conftest's stand-in)."""
    assert browser.chromium() != str(CHROMIUM_STAND_IN)
    files = write_report(publicado, 2024, tmp_path)
    assert files.pdf and files.pdf.read_bytes()[:5] == b"%PDF-"
    png = browser.screenshot(files.html, tmp_path / "captura.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a page, not a blank
    keep = Path(browser.os.environ.get("VRAEM_CAPTURAS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "informe_2024.png").write_bytes(data)
