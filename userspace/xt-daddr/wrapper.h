/* Everything libxt_DADDR needs from C: the libxtables ABI of the installed iptables (the struct
 * layout and XTABLES_VERSION must match the libxtables the extension is loaded into), getopt's
 * optarg, inet_pton/inet_ntop and stdio. */
#include <stdio.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <xtables.h>
