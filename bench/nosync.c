/* bench/nosync.c: fsync and fdatasync that return at once, for an upper bound only.
 *
 * bench/rate.sh (NOSYNC=1) preloads it into houston (LD_PRELOAD) to measure what intake's
 * latency would be if the store's writer never waited for the disk. Nothing it measures is
 * durable: never use it outside a benchmark. */
int fdatasync(int fd) {
  (void)fd;
  return 0;
}

int fsync(int fd) {
  (void)fd;
  return 0;
}
