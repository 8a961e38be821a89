// mime.hpp: the public face of the mime/ stage (reading inputs, parsing messages).
#pragma once
#include "mime/decode.hpp"
#include "mime/fields/features.hpp"
#include "mime/fields/fields.hpp"
#include "mime/html.hpp"
#include "mime/message.hpp"
#include "mime/net.hpp"
#include "mime/sources/sources.hpp"
#include "mime/text.hpp"
