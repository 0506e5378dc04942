"""The sensor on raw/: which years a new or changed file asks to refresh."""

import os

import dagster as dg

from vraem_pipeline.defs.automation import nuevos_archivos


def evaluate(cursor=None):
    context = dg.build_sensor_context(cursor=cursor)
    requests = list(nuevos_archivos(context))
    return sorted(r.partition_key for r in requests), context.cursor


def test_year_files_and_the_gdp_workbook(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))
    for folder in ("sunat/padron/2023", "sunat/padron/2024", "inei/vab"):
        (raw / folder).mkdir(parents=True)
    (raw / "sunat/padron/2023/PadronRUC_202312.zip").write_bytes(b"x")
    (raw / "sunat/padron/2024/PadronRUC_202412.zip").write_bytes(b"x")
    assert evaluate()[0] == ["2023", "2024"]  # first look: everything is new
    _, cursor = evaluate()
    assert evaluate(cursor)[0] == []  # nothing changed
    workbook = raw / "inei/vab/pbi_peru_18.xlsx"
    workbook.write_bytes(b"x")
    assert evaluate(cursor)[0] == ["2024"]  # a new GDP edition: the latest year's run reallocates every year
    _, cursor = evaluate(cursor)
    os.utime(raw / "sunat/padron/2023/PadronRUC_202312.zip", (1, 1))
    assert evaluate(cursor)[0] == ["2023"]
