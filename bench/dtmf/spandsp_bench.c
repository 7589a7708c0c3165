/*
 * spandsp_bench - throughput of spandsp's DTMF receiver (dtmf_rx) on a raw audio file, for
 * `npm run bench:dtmf` (bench/dtmf/bench.ts compares it with Cardline's detector on the same audio).
 *
 * usage: spandsp_bench FILE.raw [REPS] [CHUNK]
 *   FILE.raw  signed 16-bit little-endian, 8 kHz, mono
 *   REPS      timed repetitions (default 7; one untimed warm-up run precedes them)
 *   CHUNK     samples per dtmf_rx() call (default 160 = one 20 ms RTP frame; 0 = the whole file at once)
 *
 * Prints one JSON object on stdout:
 *   {"samples":N,"chunk":C,"reps":R,"medianSec":…,"bestSec":…,"digits":"…"}
 * Only the dtmf_rx() calls are timed (clock_gettime(CLOCK_MONOTONIC)); the file is read into memory
 * first and the receiver is initialised outside the timed region. Digits come from the default
 * digits callback (the usual production configuration).
 */
#define _POSIX_C_SOURCE 199309L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>

#define MAX_COLLECT 65536

typedef struct {
    char buf[MAX_COLLECT + 1];
    size_t len;
} collect_t;

static void on_digits(void *user_data, const char *digits, int len)
{
    collect_t *c = (collect_t *) user_data;
    int i;
    for (i = 0; i < len && c->len < MAX_COLLECT; i++)
        c->buf[c->len++] = digits[i];
    c->buf[c->len] = '\0';
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a;
    double y = *(const double *) b;
    return (x > y) - (x < y);
}

static double run_once(const int16_t *pcm, long n, long chunk, collect_t *c)
{
    dtmf_rx_state_t *rx;
    long pos;
    double t0;
    double t1;

    c->len = 0;
    c->buf[0] = '\0';
    rx = dtmf_rx_init(NULL, on_digits, c);
    if (rx == NULL) {
        fprintf(stderr, "spandsp_bench: dtmf_rx_init failed\n");
        exit(1);
    }
    t0 = now_sec();
    for (pos = 0; pos < n; pos += chunk) {
        long len = (n - pos < chunk) ? n - pos : chunk;
        dtmf_rx(rx, pcm + pos, (int) len);
    }
    t1 = now_sec();
    dtmf_rx_free(rx);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    FILE *f;
    long bytes;
    long n;
    long i;
    long chunk = 160;
    int reps = 7;
    unsigned char *raw;
    int16_t *pcm;
    double *times;
    collect_t *c;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: spandsp_bench FILE.raw [REPS] [CHUNK]\n");
        return 2;
    }
    if (argc >= 3 && ((reps = atoi(argv[2])) < 1 || reps > 1000)) {
        fprintf(stderr, "spandsp_bench: REPS must be 1..1000\n");
        return 2;
    }
    if (argc >= 4 && (chunk = atol(argv[3])) < 0) {
        fprintf(stderr, "spandsp_bench: CHUNK must be >= 0\n");
        return 2;
    }
    if ((f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "spandsp_bench: cannot open input: %s\n", strerror(errno));
        return 1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (bytes = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "spandsp_bench: cannot size input\n");
        return 1;
    }
    if (bytes % 2 != 0) {
        fprintf(stderr, "spandsp_bench: input has an odd number of bytes (not 16-bit PCM)\n");
        return 1;
    }
    n = bytes / 2;
    raw = malloc((size_t) bytes + 1);
    pcm = malloc(sizeof(int16_t) * (size_t) (n + 1));
    times = malloc(sizeof(double) * (size_t) reps);
    c = malloc(sizeof(*c));
    if (raw == NULL || pcm == NULL || times == NULL || c == NULL) {
        fprintf(stderr, "spandsp_bench: out of memory\n");
        return 1;
    }
    if ((long) fread(raw, 1, (size_t) bytes, f) != bytes) {
        fprintf(stderr, "spandsp_bench: short read\n");
        return 1;
    }
    fclose(f);
    for (i = 0; i < n; i++)
        pcm[i] = (int16_t) (uint16_t) ((unsigned) raw[2 * i] | ((unsigned) raw[2 * i + 1] << 8));
    free(raw);
    if (chunk == 0 || chunk > n)
        chunk = n > 0 ? n : 1;
    /* dtmf_rx takes an int sample count. */
    if (chunk > 0x7fffffffL) {
        fprintf(stderr, "spandsp_bench: input too large for one chunk\n");
        return 1;
    }

    run_once(pcm, n, chunk, c); /* warm-up: caches, page faults, CPU frequency */
    for (i = 0; i < reps; i++)
        times[i] = run_once(pcm, n, chunk, c);
    qsort(times, (size_t) reps, sizeof(double), cmp_double);
    printf("{\"samples\":%ld,\"chunk\":%ld,\"reps\":%d,\"medianSec\":%.9f,\"bestSec\":%.9f,\"digits\":\"%s\"}\n",
           n, chunk, reps,
           (reps % 2) ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]),
           times[0], c->buf);
    free(times);
    free(pcm);
    free(c);
    return 0;
}
