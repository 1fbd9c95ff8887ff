/*
 * The demo's tiny program. Its configuration path is compiled in from the
 * build prefix, as real software does (nginx, python), so the package records
 * where the placeholder sits in the binary: that is the relocation table.
 */
#include <stdio.h>
#include <string.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

int main(int argc, char **argv) {
    const char *path = SYSCONFDIR "/greet.conf";
    char greeting[256] = "Hello";
    FILE *config = fopen(path, "r");
    if (config != NULL) {
        if (fgets(greeting, sizeof greeting, config) != NULL) greeting[strcspn(greeting, "\n")] = '\0';
        fclose(config);
    }
#ifdef USE_COLOR
    printf("\033[1;32m%s, %s!\033[0m\n", greeting, argc > 1 ? argv[1] : "world");
#else
    printf("%s, %s!\n", greeting, argc > 1 ? argv[1] : "world");
#endif
    return 0;
}
