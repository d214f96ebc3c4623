"""The serving benchmark (``python benchmarks/run.py``), in parts:

* :mod:`.processes`: servers started and stopped by their pid, CPU and memory of a process
  tree from /proc, the spread of connections over worker processes (``ss``).
* :mod:`.corpus`: the generated corpus, the loaded database, facts read from it.
* :mod:`.sql`: the SQL Datasette runs for each request (the equivalent of our endpoint).
* :mod:`.requests`: the cells, and the varied URLs of both servers from one seeded stream.
* :mod:`.checks`: both servers' answers compared on samples (the run fails on a difference).
* :mod:`.wrk`: one timed wrk run, the profile of a run with py-spy.
* :mod:`.rounds`: rounds with the server order alternating, medians and spreads, the export.
* :mod:`.report`: the table, the targets of issue 20, the JSON of every figure.
* :mod:`.cli`: options and the run over each size.

The corpus generator (``python benchmarks/generate.py``) uses two of its modules:

* :mod:`.words`: the vocabulary of the generated texts and records.
* :mod:`.source_writer`: one source, its text written with every span recorded, and its files.
"""
