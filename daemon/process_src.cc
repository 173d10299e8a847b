// Boost.Process v2's compiled part (BOOST_PROCESS_V2_SEPARATE_COMPILATION):
// Boost 1.81's header-only mode leaves process_environment undefined.
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>
#include <boost/process/v2/src.hpp>
