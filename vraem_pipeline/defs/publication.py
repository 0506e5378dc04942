"""Publication: data dictionary, run record, and the analysts' file written anew and swapped in atomically.

Dagster runs this asset only when everything upstream materialized — a failed blocking check upstream skips it —
so the published warehouse changes only after a fully successful run. Even then it stops when the new build
would lose a source's year, a key figure or a mart's year against the published file (`guardas.py`), unless
the run carries the tag `vraem/permitir_perdidas=true` (`vraem refresh --permitir-perdidas`).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from vraem_pipeline.core.databases import record_parameters, replace_published, sha256_of, write_published_file
from vraem_pipeline.core.dictionary import write_dictionary
from vraem_pipeline.core.guards import ALLOW_LOSSES_TAG, MIN_ROW_FRACTION, DataLoss, data_losses
from vraem_pipeline.core.marts import mart_names
from vraem_pipeline.core.raw_scan import record_unrecognised, unrecognised_files, unrecognised_messages
from vraem_pipeline.lib.dagster_support import POOL, OperatorDatabase, VraemConfig, operator_connection, years_from_tags
from vraem_pipeline.registry import SOURCES, TOPICS

PUBLISHED_MARTS = [dg.AssetKey(["marts", name]) for name in mart_names()]
#: The publish swaps the run's copy in as the operator database: whatever writes it must run before, also in a run
#: that selects a topic without `marts/indicadores_clave` (its topic's key figures are written after its marts).
KEY_FIGURE_TABLES = [dg.AssetKey(t.key_figure_table.split(".")) for t in TOPICS]


@dg.asset(
    key=["almacen", "publicado"],
    deps=[*PUBLISHED_MARTS, *KEY_FIGURE_TABLES],
    pool=POOL,
    group_name="publicacion",
    kinds={"duckdb"},
    description="Escribe marts, meta y referencia en un archivo nuevo y lo publica sobre "
    "VRAEM_WAREHOUSE (reemplazo atómico)",
)
def almacen_publicado(
    context: dg.AssetExecutionContext, duckdb: OperatorDatabase, vraem: VraemConfig
) -> dg.MaterializeResult:
    years = years_from_tags(context.run.tags)
    target = Path(vraem.warehouse)
    allow_losses = context.run.tags.get(ALLOW_LOSSES_TAG, "").lower() == "true"
    unrecognised = unrecognised_files(Path(vraem.raw_dir), SOURCES)
    for line in unrecognised_messages(unrecognised):
        context.log.warning(line)
    with operator_connection(duckdb) as con:
        record_unrecognised(con, unrecognised)
        record_parameters(
            con,
            "publicacion",
            {
                "fraccion_minima_filas": (
                    MIN_ROW_FRACTION,
                    "Guarda de publicación: una fuente y año que conserva "
                    "menos de esta fracción de las filas aceptadas del almacén publicado (o ninguna) "
                    "detiene la publicación, como una cifra clave no nula que desaparece o pasa a 0 "
                    "o un año que desaparece de un mart",
                ),
                "permitir_perdidas": (
                    allow_losses,
                    "Si esta publicación aceptó esas pérdidas (vraem refresh "
                    "--permitir-perdidas, etiqueta de ejecución vraem/permitir_perdidas)",
                ),
            },
        )
        losses = data_losses(con, target, SOURCES)
        if losses and not allow_losses:
            raise DataLoss(losses)
        for loss in losses:
            context.log.warning(f"pérdida aceptada (--permitir-perdidas): {loss}")
        n_dic = write_dictionary(con, SOURCES)
        params = con.execute("SELECT tema, nombre, valor FROM meta.parametros ORDER BY ALL").fetchall()
        stats = context.instance.get_run_stats(context.run.run_id)
        started = datetime.fromtimestamp(stats.start_time, UTC).replace(tzinfo=None) if stats.start_time else None
        run_info = [
            context.run.run_id,
            started,
            datetime.now(UTC).replace(tzinfo=None),
            json.dumps(years),
            vraem.territory,
            sha256_of(Path(vraem.territory)),
            json.dumps([list(p) for p in params], ensure_ascii=False),
            "publicado",
        ]
        # Into the run's copy of the operator database, so into both files or neither: the copy only becomes the
        # operator database once the analysts' new file is written, and the run record goes with it.
        con.execute("INSERT INTO meta.ejecuciones VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run_info)
        new_file, n_tables = write_published_file(con, target)
    try:
        duckdb.publish_run()  # the run's copy becomes the operator database (write-audit-publish)
    except BaseException:
        new_file.unlink(missing_ok=True)
        raise
    # Killed between these two renames: the next run publishes the operator database's publication again.
    replace_published(new_file, target)
    context.log.info(f"almacén publicado: {target} ({n_tables} tablas)")
    return dg.MaterializeResult(
        metadata={
            "almacen": str(target),
            "diccionario_filas": n_dic,
            "tablas": n_tables,
            "bytes": target.stat().st_size,
            "perdidas_aceptadas": dg.MetadataValue.json([str(p) for p in losses]),
            "archivos_no_reconocidos": len(unrecognised),
        }
    )
