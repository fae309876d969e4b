# dpdk-testpmd --cmdline-file=config/testpmd-fjord-txonly.cmd, with fjord's
# port 0 facing a vhost-user back-end: send 64 B frames for a while, then
# show what fjord counted.
set fwd txonly
set txpkts 64
start
show port info 0
show port stats 0
stop
show port xstats 0
