/*
 * Functions stet does not use: unbounded copies and formats, and
 * tokenisers with hidden state. Use stet_buf, snprintf, memcpy with a
 * checked length, or a plain loop instead.
 */
#ifndef STET_BANNED_H
#define STET_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_stet

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
