/*
 * test_main.c: runs the C receiver's unit tests.
 *   otarx_tests VECTORS_DIR FIXTURES_DIR
 * VECTORS_DIR is protocol/vectors (the files the TypeScript tests read too); FIXTURES_DIR holds
 * TEST KEYS and images (test/fixtures). Prints the counts; exit 1 if any check failed.
 */
#include <stdio.h>
#include <string.h>

#include "ctest.h"
#include "harness.h"

ctest_t g_ct;
const char *g_vectors;
const char *g_fixtures;

void test_crc_vec(const char *dir);
void test_cobs_vec(const char *dir);
void test_frames_vec(const char *dir, harness_t *h);
void test_malformed_vec(const char *dir);
void test_cobs_property(harness_t *h);
void run_receiver_tests(void);
void run_credit_tests(void);
void run_resume_tests(void);
void run_record_tests(void);
void run_control_tests(void);
void run_multichunk_tests(void);
int run_session_vectors(const char *dir, unsigned *files);

int main(int argc, char **argv)
{
    harness_t h;
    hcfg_t cfg;
    unsigned sessions = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s VECTORS_DIR FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    g_vectors = argv[1];
    g_fixtures = argv[2];
    cfg = h_default_cfg(g_fixtures);
    if (h_init(&h, &cfg) != 0) {
        fprintf(stderr, "cannot set up the test device\n");
        return 1;
    }
    g_ct.tests += 5;
    test_crc_vec(g_vectors);
    test_cobs_vec(g_vectors);
    test_frames_vec(g_vectors, &h);
    test_malformed_vec(g_vectors);
    test_cobs_property(&h);
    h_free(&h);
    run_receiver_tests();
    run_credit_tests();
    run_resume_tests();
    run_record_tests();
    run_control_tests();
    run_multichunk_tests();
    g_ct.tests++;
    if (run_session_vectors(g_vectors, &sessions) != 0) {
        g_ct.failures++;
    }
    printf("C receiver unit tests: %u tests, %u checks, %u failed; %u session vector files\n",
           g_ct.tests, g_ct.checks, g_ct.failures, sessions);
    return g_ct.failures == 0 ? 0 : 1;
}
