#include "coll_zl.h"
