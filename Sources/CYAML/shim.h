#ifndef NIGHTSHIFT_CYAML_SHIM_H
#define NIGHTSHIFT_CYAML_SHIM_H
#include <yaml.h>
#endif
