/*
 * libsrtp2 as an independent SRTP/SRTCP reference for Cardline's tests (test/media/srtp-libsrtp.test.ts).
 *
 *   srtp_ref MODE SUITE KEYHEX < packets
 *     MODE   protect | unprotect | protect_rtcp | unprotect_rtcp
 *     SUITE  80 (AES_CM_128_HMAC_SHA1_80) | 32 (AES_CM_128_HMAC_SHA1_32; SRTCP keeps the 80-bit tag)
 *     KEYHEX master key || master salt, 30 octets as 60 hex digits
 *   stdin: one packet per line as hex; stdout: one line per packet, the result as hex or "ERR <status>".
 * One session for the whole run, so ROC, SRTCP index and replay state carry over from line to line.
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int unhex(const char *s, size_t n, unsigned char *out, size_t cap) {
  if (n % 2 != 0 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
    if (h < 0 || l < 0) return -1;
    out[i] = (unsigned char)(h << 4 | l);
  }
  return (int)(n / 2);
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: srtp_ref MODE 80|32 KEYHEX\n"); return 2; }
  const char *mode = argv[1];
  int suite = atoi(argv[2]);
  unsigned char key[30];
  if (strlen(argv[3]) != 60 || unhex(argv[3], 60, key, sizeof key) != 30) { fprintf(stderr, "bad key\n"); return 2; }
  int rtcp = strstr(mode, "rtcp") != NULL;
  int outbound = strncmp(mode, "protect", 7) == 0;
  if (srtp_init() != srtp_err_status_ok) { fprintf(stderr, "srtp_init failed\n"); return 1; }
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  if (suite == 32) srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  else srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp); /* RFC 4568 §6.2.2 */
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = 128;
  policy.allow_repeat_tx = 0;
  policy.next = NULL;
  srtp_t session;
  srtp_err_status_t st = srtp_create(&session, &policy);
  if (st != srtp_err_status_ok) { fprintf(stderr, "srtp_create failed: %d\n", st); return 1; }
  static char line[1 << 17];
  static unsigned char buf[(1 << 16) + SRTP_MAX_TRAILER_LEN];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\r\n");
    int len = unhex(line, n, buf, sizeof buf - SRTP_MAX_TRAILER_LEN);
    if (len < 0) { printf("ERR hex\n"); continue; }
    if (!outbound && !rtcp) st = srtp_unprotect(session, buf, &len);
    else if (outbound && !rtcp) st = srtp_protect(session, buf, &len);
    else if (outbound) st = srtp_protect_rtcp(session, buf, &len);
    else st = srtp_unprotect_rtcp(session, buf, &len);
    if (st != srtp_err_status_ok) { printf("ERR %d\n", st); continue; }
    for (int i = 0; i < len; i++) printf("%02x", buf[i]);
    printf("\n");
  }
  fflush(stdout);
  srtp_dealloc(session);
  srtp_shutdown();
  return 0;
}
