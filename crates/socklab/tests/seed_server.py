"""The seed tutorial's TCP server (socket programming, port 7788, GBK), unattended.

Changes from the tutorial: the port comes from argv (0 = any free port) and is printed
once listening, so the test knows when and where to connect. Everything else is the
tutorial's code.
"""
import sys
from socket import *

tcp_server_socket = socket(AF_INET, SOCK_STREAM)
address = ('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 7788)
tcp_server_socket.bind(address)
tcp_server_socket.listen(128)
print('listening on 127.0.0.1:%d' % tcp_server_socket.getsockname()[1], flush=True)

client_socket, clientAddr = tcp_server_socket.accept()
recv_data = client_socket.recv(1024)
print('接收到的数据为:', recv_data.decode('gbk'), flush=True)
client_socket.send("thank you !".encode('gbk'))
client_socket.close()
