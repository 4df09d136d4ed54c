#pragma once
// Internal: the stb_image configuration shared by the implementation unit (stb_image_impl.cpp) and its users.
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_FAILURE_USERMSG
#define STBI_WRITE_NO_STDIO
