# Writes a C++ source holding a JSON file as one string (kubesim's built-in type data).
# Usage: cmake -DINPUT=<file.json> -DOUTPUT=<file.cpp> -DSYMBOL=<name> -P embed_json.cmake
# The JSON is ASCII (json.dump's default), cut into raw string literals of 16,000 characters
# (compilers bound one literal's length; adjacent literals are joined).
file(READ "${INPUT}" content)
string(LENGTH "${content}" size)
set(out "// Generated from ${INPUT} by embed_json.cmake: do not edit.\n#include <cstddef>\n\n")
string(APPEND out "extern const char ${SYMBOL}[];\nextern const std::size_t ${SYMBOL}_size;\n")
string(APPEND out "const char ${SYMBOL}[] =\n")
set(pos 0)
while(pos LESS size)
  string(SUBSTRING "${content}" ${pos} 16000 chunk)
  string(APPEND out "    R\"KS(${chunk})KS\"\n")
  math(EXPR pos "${pos} + 16000")
endwhile()
string(APPEND out "    ;\nconst std::size_t ${SYMBOL}_size = sizeof(${SYMBOL}) - 1;\n")
file(WRITE "${OUTPUT}" "${out}")
