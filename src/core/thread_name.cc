#include "core/thread_name.h"

#include <pthread.h>

#include <string>

namespace houston {

void NameThisThread(std::string_view name) {
  std::string n(name.substr(0, 15));
  for (char& c : n) {
    if (c == ' ') c = '-';
  }
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace houston
