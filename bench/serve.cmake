# finstream serve is measured over HTTP with wrk and fixed bodies: bench/bench_serve.sh
# (not a compiled program; run it by hand after building).
