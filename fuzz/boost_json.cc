// Boost.JSON's implementation as one translation unit, so that the fuzz build
// instruments the parser the harnesses feed (the system library is not).
#include <boost/json/src.hpp>
