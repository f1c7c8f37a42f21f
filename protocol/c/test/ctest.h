/*
 * ctest.h: the smallest test framework that reports what failed and where. A check never stops
 * the run; main() prints the counts and fails if any check failed.
 */
#ifndef CTEST_H
#define CTEST_H

#include <stdio.h>
#include <string.h>

typedef struct {
    unsigned checks, failures, tests, skipped;
} ctest_t;

extern ctest_t g_ct; /* test binaries only: the one tally of the run */

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        g_ct.checks++;                                                                   \
        if (!(cond)) {                                                                   \
            g_ct.failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);                              \
        g_ct.checks++;                                                                   \
        if (a_ != b_) {                                                                  \
            g_ct.failures++;                                                             \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld (0x%llx != 0x%llx)\n",  \
                    __FILE__, __LINE__, #a, #b, a_, b_, (unsigned long long)a_,          \
                    (unsigned long long)b_);                                             \
        }                                                                                \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* Run one test function, announcing it when verbose. */
#define RUN(fn)                                                                          \
    do {                                                                                 \
        unsigned before_ = g_ct.failures;                                                \
        g_ct.tests++;                                                                    \
        fn();                                                                            \
        if (g_ct.failures != before_) {                                                  \
            fprintf(stderr, "  FAILED: %s\n", #fn);                                      \
        }                                                                                \
    } while (0)

#endif /* CTEST_H */
