# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# ns/packet against rule count, from the per-packet table of `make bench`.
# scripts/bench.sh runs it as
#   gnuplot -e "datafile='D'; outfile='O'; subtitle='S'" scripts/bench-plot.gp
# D has one line per rule count: rules xwall xdp-filter XDP_DROP (ns/packet,
# "?" where not measured), the numbers the bench printed.
if (!exists("datafile")) datafile = 'build/bench-pkt.dat'
if (!exists("outfile")) outfile = 'docs/bench-ns-per-packet.png'
if (!exists("subtitle")) subtitle = ''

set terminal pngcairo size 900,560 enhanced font "sans,11"
set output outfile
set title sprintf("Per-packet cost, BPF_PROG_TEST_RUN (warm caches, mean over 16 frames)\n%s", subtitle) noenhanced
set xlabel "rules (exact IPv4/IPv6 addresses, TCP/UDP ports)"
set ylabel "ns/packet"
set logscale x 10
set format x "10^{%L}"
set xrange [5:200000]
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0    # room above the top labels
set grid xtics ytics mxtics
set key top left box opaque
set datafile missing "?"
set pointsize 1.3

plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "xwall", \
     datafile using 1:2:(stringcolumn(2)) with labels offset 0,1.1 font ",9" tc rgb "#1f77b4" notitle, \
     datafile using 1:3 with linespoints lw 2 pt 5 lc rgb "#d62728" title "xdp-filter", \
     datafile using 1:3:(stringcolumn(3)) with labels offset 0,-1.1 font ",9" tc rgb "#d62728" notitle, \
     datafile using 1:4 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "trivial XDP\\_DROP", \
     datafile using 1:4:(stringcolumn(4)) with labels offset 0,-1.1 font ",9" tc rgb "#2ca02c" notitle
