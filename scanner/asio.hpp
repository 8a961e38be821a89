// asio.hpp: the one place hdrscan includes Boost.Asio.
//
// Purpose: Boost 1.74 Asio does not compile with GCC 12 in C++20 mode (awaitable.hpp uses
// std::exchange without including <utility>); including <utility> first fixes it. Every
// scanner/ file that needs Asio includes this header instead of <boost/asio.hpp>.
// Limits: none; header only (Asio is header-only, Boost::system is linked by scanner/).
#pragma once
#include <utility>

#include <boost/asio.hpp>
