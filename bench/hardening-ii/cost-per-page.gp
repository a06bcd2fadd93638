set terminal pngcairo noenhanced size 520,840 font ",10"
set output "cost-per-page.png"
set datafile missing "?"
set logscale xy
set grid
set key top right font ",8"
set xlabel "pages per allocation"
set ylabel "µs per page (median, steady)"
set xtics (1, 16, 64, 256, 4096)
set multiplot layout 2,1 title "Cost per page against size (QEMU TCG: for ratios, not absolute time)"
set datafile columnheaders
set title "6.12.118+deb12-amd64, 4 vCPUs"
plot "cost-per-page.dat" index 0 using "pages":"vmalloc" with linespoints title "vmalloc", "cost-per-page.dat" index 0 using "pages":"nd_not_present" with linespoints title "nd_not_present", "cost-per-page.dat" index 0 using "pages":"nd_read_only" with linespoints title "nd_read_only", "cost-per-page.dat" index 0 using "pages":"nd_pool" with linespoints title "nd_pool", "cost-per-page.dat" index 0 using "pages":"per_page" with linespoints title "per_page", "cost-per-page.dat" index 0 using "pages":"memfd_secret" with linespoints title "memfd_secret"
set title "7.3.4+deb13-amd64, 4 vCPUs"
plot "cost-per-page.dat" index 1 using "pages":"vmalloc" with linespoints title "vmalloc", "cost-per-page.dat" index 1 using "pages":"nd_not_present" with linespoints title "nd_not_present", "cost-per-page.dat" index 1 using "pages":"nd_read_only" with linespoints title "nd_read_only", "cost-per-page.dat" index 1 using "pages":"nd_pool" with linespoints title "nd_pool", "cost-per-page.dat" index 1 using "pages":"per_page" with linespoints title "per_page", "cost-per-page.dat" index 1 using "pages":"memfd_secret" with linespoints title "memfd_secret"
unset multiplot
