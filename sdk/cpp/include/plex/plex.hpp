// plex C++ SDK: everything.
#pragma once

#include "plex/client.hpp"
#include "plex/codec.hpp"
#include "plex/config.hpp"
#include "plex/errc.hpp"
#include "plex/frame.hpp"
#include "plex/message.hpp"
#include "plex/session.hpp"
