// Small pugixml helpers the XML-speaking backends share (S3, Azure Blob).
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "omnio/result.h"

namespace omnio::http {

/// Parses `body`; kInternal naming `what` and the parse error when it is not XML.
Result<pugi::xml_document> load_xml(std::string_view body, std::string_view what);
/// Text of n's child element `child` ("" when absent).
std::string xml_text(const pugi::xml_node& n, const char* child);
/// Appends `s` with the five XML special characters escaped.
void append_xml_escaped(std::string& out, std::string_view s);

}  // namespace omnio::http
