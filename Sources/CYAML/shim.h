#ifndef HLD_CYAML_SHIM_H
#define HLD_CYAML_SHIM_H
#include <yaml.h>
#endif
