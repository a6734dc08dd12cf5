"""Prometheus metrics: the counters the code increments (:mod:`.instruments`), the
gauges read from the database at scrape time (:mod:`.gauges`), the exposition and who
may read it (:mod:`.exposition`, :mod:`.views`).

Counters are counted across processes with prometheus_client's multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set (the ``Procfile`` sets it for web and worker), in the
process otherwise (development, tests)."""
