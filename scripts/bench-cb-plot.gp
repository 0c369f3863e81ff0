# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# ns/packet per ClassBench set, from the ClassBench tables of `make bench`.
# scripts/bench.sh runs it as
#   gnuplot -e "datafile='D'; outfile='O'; subtitle='S'" scripts/bench-cb-plot.gp
# D has one line per set: set rules xwall XDP_DROP nft-net (ns/packet, "?"
# where not measured: a set xwall refuses, or no nft run), the numbers the
# bench printed.
if (!exists("datafile")) datafile = 'build/bench-cb.dat'
if (!exists("outfile")) outfile = 'docs/bench-classbench.png'
if (!exists("subtitle")) subtitle = ''

set terminal pngcairo size 1000,560 enhanced font "sans,11"
set output outfile
set title sprintf("ClassBench: per-packet cost by rule set (log scale; no xwall bar = refused)\n%s", subtitle) noenhanced
set ylabel "ns/packet"
set logscale y 10
set yrange [1:*]
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 noenhanced
set grid ytics
set key outside top center horizontal box
set datafile missing "?"

plot datafile using 3:xtic(1) lc rgb "#1f77b4" title "xwall XDP (BPF\\_PROG\\_TEST\\_RUN)", \
     '' using 4 lc rgb "#2ca02c" title "trivial XDP\\_DROP (same run)", \
     '' using 5 lc rgb "#ff7f0e" title "nftables netdev chain, net (veth bed)"
