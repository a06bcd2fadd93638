set terminal pngcairo noenhanced size 1560,420 font ",10"
set output "cost-vs-cpus.png"
set datafile missing "?"
set logscale x 2
set logscale y
set grid
set key top left font ",8"
set xlabel "vCPUs"
set ylabel "µs per 64-page pair (median, steady)"
set xtics (1, 2, 4, 8)
set xrange [0.67:12.00]
set multiplot layout 1,3 title "Cost of a 64-page pair against vCPUs (QEMU TCG: for ratios, not absolute time)"
set datafile columnheaders
set title "6.1.0-57-amd64, 64 pages"
plot "cost-vs-cpus.dat" index 0 using "cpus":"vmalloc" with linespoints lt 1 title "vmalloc", "cost-vs-cpus.dat" index 0 using "cpus":"nd_not_present" with linespoints lt 2 title "nd_not_present", "cost-vs-cpus.dat" index 0 using "cpus":"nd_read_only" with linespoints lt 3 title "nd_read_only", "cost-vs-cpus.dat" index 0 using "cpus":"nd_pool" with linespoints lt 4 title "nd_pool", "cost-vs-cpus.dat" index 0 using "cpus":"nd_ro_pool" with linespoints lt 7 title "nd_ro_pool", "cost-vs-cpus.dat" index 0 using "cpus":"per_page" with linespoints lt 5 title "per_page"
set title "6.12.118+deb13-amd64, 64 pages"
plot "cost-vs-cpus.dat" index 1 using "cpus":"vmalloc" with linespoints lt 1 title "vmalloc", "cost-vs-cpus.dat" index 1 using "cpus":"nd_not_present" with linespoints lt 2 title "nd_not_present", "cost-vs-cpus.dat" index 1 using "cpus":"nd_read_only" with linespoints lt 3 title "nd_read_only", "cost-vs-cpus.dat" index 1 using "cpus":"nd_pool" with linespoints lt 4 title "nd_pool", "cost-vs-cpus.dat" index 1 using "cpus":"nd_ro_pool" with linespoints lt 7 title "nd_ro_pool", "cost-vs-cpus.dat" index 1 using "cpus":"per_page" with linespoints lt 5 title "per_page"
set title "7.3.4+deb13-amd64, 64 pages"
plot "cost-vs-cpus.dat" index 2 using "cpus":"vmalloc" with linespoints lt 1 title "vmalloc", "cost-vs-cpus.dat" index 2 using "cpus":"nd_not_present" with linespoints lt 2 title "nd_not_present", "cost-vs-cpus.dat" index 2 using "cpus":"nd_read_only" with linespoints lt 3 title "nd_read_only", "cost-vs-cpus.dat" index 2 using "cpus":"nd_pool" with linespoints lt 4 title "nd_pool", "cost-vs-cpus.dat" index 2 using "cpus":"nd_ro_pool" with linespoints lt 7 title "nd_ro_pool", "cost-vs-cpus.dat" index 2 using "cpus":"per_page" with linespoints lt 5 title "per_page"
unset multiplot
