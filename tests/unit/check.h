/* check.h - the unit test harness: a test is a function, a check is a macro.
 *
 * Each RUN(test) prints "ok <binary>/<test>" or "FAIL <binary>/<test>";
 * tests/run.sh counts those lines. A failed CHECK prints file:line and the
 * expression, and the test goes on so one run shows every failure. */
#ifndef SW_CHECK_H
#define SW_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_case_failed;
static int check_cases_failed;
static const char *check_binary = "unit";

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            check_case_failed = 1;                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                 \
    do {                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
        if (check_a_ != check_b_) {                                        \
            check_case_failed = 1;                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);       \
        }                                                                  \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                 \
    do {                                                                   \
        const char *check_a_ = (a), *check_b_ = (b);                       \
        if (strcmp(check_a_, check_b_) != 0) {                             \
            check_case_failed = 1;                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);       \
        }                                                                  \
    } while (0)

#define RUN(test)                                                          \
    do {                                                                   \
        check_case_failed = 0;                                             \
        test();                                                            \
        printf("%s %s/%s\n", check_case_failed ? "FAIL" : "ok",            \
               check_binary, #test);                                       \
        check_cases_failed += check_case_failed;                           \
    } while (0)

#define CHECK_EXIT() return check_cases_failed ? 1 : 0

#endif
