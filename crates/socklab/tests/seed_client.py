"""The seed tutorial's TCP client (GBK), unattended.

Changes from the tutorial: server ip, port and the data to send come from argv instead of
input() prompts. Everything else is the tutorial's code.
"""
import socket
import sys

tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server_ip = sys.argv[1]
server_port = int(sys.argv[2])
tcp_client_socket.connect((server_ip, server_port))
send_data = sys.argv[3]
tcp_client_socket.send(send_data.encode("gbk"))
recvData = tcp_client_socket.recv(1024)
print('接收到的数据为:', recvData.decode('gbk'), flush=True)
tcp_client_socket.close()
